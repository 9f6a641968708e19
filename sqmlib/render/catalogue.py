"""The label catalogue: identifier, English, Chinese."""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------------------
# the catalogue: identifier | English | Chinese
# ---------------------------------------------------------------------------------------------------------
_CATALOGUE = """
n | n | 样本量
n_eff | effective n | 有效样本量
k | items | 题项数
t | t | t 值
p | p | p 值
p_value | p | p 值
p_adj | p (adjusted) | 校正 p 值
se | standard error | 标准误
sd | standard deviation | 标准差
mean | mean | 均值
min | minimum | 最小值
max | maximum | 最大值
r | correlation | 相关系数
r2 | R² | R²
R2 | R² | R²
adj_r2 | adjusted R² | 调整 R²
r2_adj | adjusted R² | 调整 R²
df | df | 自由度
df1 | df (numerator) | 分子自由度
df2 | df (denominator) | 分母自由度
stat | statistic | 统计量
coef | coefficient | 系数
std_coef | standardised coefficient | 标准化系数
odds_ratio | odds ratio | 优势比
exp(coef) | hazard ratio | 风险比
exp(coef) lower 95% | hazard ratio: 95% CI lower | 风险比 95%区间下限
exp(coef) upper 95% | hazard ratio: 95% CI upper | 风险比 95%区间上限
covariate | feature | 特征
ci_low | 95% CI lower | 95%区间下限
ci_high | 95% CI upper | 95%区间上限
dz | effect size dz | 效应量 dz
gap | gap (P − E) | 差距（P − E）
gap_number | gap of the gaps model | 差距模型中的差距
gap1 | gap 1 | 差距1
mean_e | mean expectation | 期望均值
mean_p | mean perception | 感知均值
mean_adequate | mean adequate level | 最低可接受水平均值
mean_desired | mean desired level | 期望水平均值
zone_width | width of the zone of tolerance | 容忍区间宽度
share_below | customers below their expectation | 低于期望的顾客比例
share_exceed | customers above their expectation | 超出期望的顾客比例
share_meet | customers meeting their expectation | 恰好满足期望的顾客比例
n_below | below the zone | 低于容忍区间
n_within | within the zone | 位于容忍区间内
n_above | above the zone | 高于容忍区间
n_low | low performers | 低表现人数
n_mid | middle | 中间人数
n_high | high performers | 高表现人数
level | level | 层级
name | name | 名称
dimension | dimension | 维度
item | item | 题项
text | wording | 题项内容
label | label | 标签
note | note | 备注
quarter | quarter | 季度
period | period | 期间
periods | periods | 期数
block | block | 题块
items | items | 题项数
item_columns | item columns | 题项列
item columns | item columns | 题项列
count | count | 数量
share | share | 占比
cumulative_share | cumulative share | 累计占比
cumulative | cumulative share | 累计占比
top | vital few | 关键少数
category | category | 类别
kpi | KPI | 指标
severity | severity | 严重程度
target | target | 目标
value | value | 数值
share_meeting | share meeting the standard | 达标比例
unit | unit | 单位
unit_type | unit type | 单位类型
description | description | 说明
met | met | 是否达标
criterion | criterion | 判定项
rule | rule | 标准
complaints | complaints | 投诉数
tickets | tickets | 工单数
fcr | first-contact resolution | 首次解决率
response_h_median | median first response (hours) | 首次响应时间中位数（小时）
response_h_p90 | 90th percentile first response (hours) | 首次响应时间90分位（小时）
handling_h_median | median handling time (hours) | 处理时长中位数（小时）
handling_h_p90 | 90th percentile handling time (hours) | 处理时长90分位（小时）
repeat_rate | repeat complaints | 重复投诉率
active_customers | active customers | 活跃顾客数
complaints_per_1000 | complaints per 1,000 customers | 每千名顾客投诉数
complaints_per_1000_change | change in complaints per 1,000 customers | 每千名顾客投诉变化
churn_rate | churn rate | 流失率
churn_change | change in churn rate | 流失率变化
nps | NPS | NPS
nps_ci_low | NPS: 95% CI lower | NPS 区间下限
nps_ci_high | NPS: 95% CI upper | NPS 区间上限
csat | CSAT | CSAT
ces | CES | CES
importance | importance | 重要性
performance | performance | 表现
quadrant | quadrant | 象限
quadrant_other | quadrant (other importance) | 象限（另一种重要性）
lmg | R² attributed (LMG) | 分配到的 R²（LMG）
pratt | Pratt measure | Pratt 指标
betasq | squared standardised coefficient | 标准化系数平方
relative_weights | relative weight | 相对权重
group | group | 组别
customers | customers | 顾客数
churners | churners | 流失顾客数
churned | left | 已流失
stayed | stayed | 留存
cum_share_customers | cumulative share of customers | 累计顾客比例
cum_share_churners | cumulative share of churners | 累计流失顾客比例
lift | lift | 提升度
cum_lift | cumulative lift | 累计提升度
measure | measure | 指标
respondents | respondents | 受访者数
overall_sat | overall satisfaction | 总体满意度
recommend | likelihood to recommend | 推荐意愿
evidence | evidence | 依据
standard | standard | 标准
center | centre line | 中心线
centre | centre line | 中心线
lcl | lower control limit | 控制下限
ucl | upper control limit | 控制上限
signal | signal | 信号
rule1 | rule 1 | 规则1
rule2 | rule 2 | 规则2
rule3 | rule 3 | 规则3
rule4 | rule 4 | 规则4
alert | alert | 预警
benchmark | benchmark | 基准
region | region | 区域
channel | channel | 渠道
store | store | 门店
plan | plan | 套餐
month | month | 月份
level1_met | level 1 met | 一级达标
level2_met | level 2 met | 二级达标
level3_met | level 3 met | 三级达标
probability | churn probability | 流失概率
expected_loss | expected loss | 预期损失
customer_id | customer | 顾客
respondent_id | respondent | 受访者
top_reasons | main reasons | 主要原因
segment | segment | 细分
segment_a | segment A | 细分 A
segment_b | segment B | 细分 B
rate | rate | 比率
alpha | Cronbach's α | Cronbach α
alpha_if_deleted | α if the item is deleted | 删除该题后的 α
r_drop | corrected item–total correlation | 校正题总相关
dimension_alpha | α of the dimension | 维度 α
omega | McDonald's ω | McDonald ω
mean_loading | mean loading | 平均载荷
cr | composite reliability | 组合信度
ave | average variance extracted | 平均方差抽取量
ave_raw | AVE (unstandardised) | AVE（未标准化）
cr_raw_implied | composite reliability (model-implied) | 组合信度（模型隐含）
cr_raw_observed | composite reliability (observed) | 组合信度（观测）
sqrt_ave | √AVE | √AVE
max_factor_corr | largest factor correlation | 最大因子相关
fornell_larcker | Fornell–Larcker criterion | Fornell–Larcker 准则
rho_a | ρ_A | ρ_A
rho_c | composite reliability ρ_C | 组合信度 ρ_C
construct | construct | 构念
difference | difference | 差值
diff | difference | 差值
reason | reason | 原因
clv | customer lifetime value | 顾客终身价值
offer_cost | offer cost | 挽留成本
marker_scaled | loading (marker scaled) | 载荷（标记变量标定）
std_all | standardised loading | 标准化载荷
residual_variance | residual variance | 残差方差
random_mean | random data: mean eigenvalue | 随机数据：平均特征值
random_quantile | random data: 95th percentile | 随机数据：第95百分位
eigenvalue | eigenvalue | 特征值
n_contacted | customers contacted | 联系的顾客数
churners_reached | churners reached | 覆盖的流失顾客数
profit_per_customer | profit per customer | 每位顾客的利润
mr_ucl | upper limit of the moving range | 移动极差控制上限
mr | moving range | 移动极差
csat_n | CSAT answers | CSAT 作答数
csat_ci_low | CSAT: 95% CI lower | CSAT 95%区间下限
csat_ci_high | CSAT: 95% CI upper | CSAT 95%区间上限
general | general dominance | 总体优势
difference_reliability | reliability of the difference | 差值信度
chisq | χ² | χ²
cfi | CFI | CFI
tli | TLI | TLI
rmsea | RMSEA | RMSEA
srmr | SRMR | SRMR
aic | AIC | AIC
bic | BIC | BIC
delta_cfi | ΔCFI | ΔCFI
delta_chisq | Δχ² | Δχ²
delta_df | Δdf | Δ自由度
delta_rmsea | ΔRMSEA | ΔRMSEA
delta_p | p (Δχ²) | p 值（Δχ²）
holds | holds | 成立
estimator | estimator | 估计方法
trusted | the one to trust | 应采信
factor | factor | 因子
loading | loading | 载荷
msa | sampling adequacy (MSA) | 取样适切性（MSA）
mss | model sum of squares | 模型平方和
condition_number | condition number | 条件数
suppressor | suppressor | 抑制变量
vif | VIF | VIF
penalty | penalty of low performance | 低表现惩罚
reward | reward of high performance | 高表现奖励
ris | range of impact (RIS) | 影响范围（RIS）
ia | impact asymmetry | 影响不对称性
kano | Kano class | Kano 类别
driver | driver | 驱动因素
rank | rank | 排名
differs | differs | 有差异
better | better | 较优
between | between | 对比
from | from | 从
to | to | 至
first | first (r² alone) | 单独 R²
last | last (unique R²) | 独特 R²
first_period | first period | 首期
last_period | last period | 末期
change | change | 变化
current | this quarter | 本季度
previous | previous quarter | 上季度
significant | significant | 显著
direction | direction | 方向
welch_F | Welch's F | Welch F 值
kruskal_H | Kruskal–Wallis H | Kruskal–Wallis H 值
roc_auc | ROC-AUC | ROC-AUC
pr_auc | PR-AUC | PR-AUC
brier | Brier score | Brier 分数
log_loss | log loss | 对数损失
ece | calibration error (ECE) | 校准误差（ECE）
top_decile_lift | lift in the top 10% | 前10%提升度
auc_drop | drop in ROC-AUC when shuffled | 打乱后 ROC-AUC 下降
feature | feature | 特征
threshold | threshold | 阈值
contact | contacted | 联系人数
profit | profit | 利润
predicted | predicted | 预测
index | index | 指数
index_0_100 | index (0–100) | 指数（0–100）
retained_value | retained customer value | 保留的顾客价值
target_change | change in the target | 目标变化
position | position | 位置
size | size | 规模
total | total | 合计
kruskal | Kruskal–Wallis | Kruskal–Wallis
welch | Welch | Welch
wilcoxon | Wilcoxon | Wilcoxon
tenure_days | tenure (days) | 在网天数
monthly_charges | monthly charges | 月费
contacts_90d | contacts (90 days) | 近90天接触次数
contacts_365d | contacts (365 days) | 近365天接触次数
complaints_90d | complaints (90 days) | 近90天投诉数
complaints_365d | complaints (365 days) | 近365天投诉数
repeat_complaints_365d | repeat complaints (365 days) | 近365天重复投诉数
unresolved_complaints_365d | unresolved complaints (365 days) | 近365天未解决投诉数
standard_breaches_365d | standard breaches (365 days) | 近365天未达标次数
days_since_complaint | days since the last complaint | 距上次投诉天数
days_since_survey | days since the last survey | 距上次调查天数
has_survey | answered a survey | 参与过调查
answer_seconds | answer time (seconds) | 接听时间（秒）
share_met_answer_seconds | calls answered within the standard | 在标准时间内接听的电话比例
share_met_first_response_hours | complaints answered within the standard | 在标准时间内首次响应的投诉比例
share_met_closure_hours | complaints closed within the standard | 在标准时间内结案的投诉比例
first_response_hours | first response (hours) | 首次响应时间（小时）
closure_hours | time to closure (hours) | 结案时间（小时）
standards_share_meeting | share meeting the standards | 标准达标比例
error_rate | error rate | 差错率
column | column | 列
file | file | 文件
format | format | 格式
encoding | encoding | 编码
instrument | instrument | 量表
scale | scale | 量表范围
reverse | reverse-keyed | 反向计分
missing_codes | missing codes | 缺失值代码
answered | answered | 有效作答
answered_share | answered share | 作答比例
share_answered | answered share | 作答比例
blank | blank | 空白
flag | flag | 标记
problems | problems | 问题数
respondents_file | respondents in the file | 文件中受访者数
respondents_quarter | respondents in the quarter | 本季度受访者数
respondents_per_quarter | respondents per quarter | 每季度受访者数
lowest_answered_share | lowest item answered share | 题项最低作答比例
straightliners | straight-liners | 直线作答者
straightliner_share | straight-liners | 直线作答比例
too_fast | too fast | 作答过快
too_fast_share | too fast | 作答过快比例
too_fast_limit_sec | too-fast limit (seconds) | 过快阈值（秒）
chart | chart | 图表
figure | chart | 图表
metric | measure | 指标
meaning | meaning | 含义
outcome | outcome | 结果变量
managers | managers | 管理者人数
manager_estimate | managers' estimate | 管理层估计
management_e | managers' estimate | 管理层估计
customer_expectation | customers' expectation | 顾客期望
customer_e | customers' expectation | 顾客期望
status | status | 状态
true | observed | 实际
total_effect | total effect | 总效应
path | path | 路径
indirect | indirect effect | 间接效应
direct | direct effect | 直接效应
weight | weight | 权重
reflected | reflected | 已反向
careless | careless | 粗心作答
straightliner | straight-liner | 直线作答
came_back | came back | 回头会员数
returning_share | returning share | 回头客比例
members_at_start | members at the start | 期初会员数
leavers | leavers | 流失人数
rate_ci_low | rate: 95% CI lower | 比率 95%区间下限
rate_ci_high | rate: 95% CI upper | 比率 95%区间上限
example | example item | 示例题项
share_of_r2 | share of R² (%) | R² 占比（%）
churn_rate_group | churn rate in the group | 组内流失率
share_of_respondents | share of respondents | 受访者比例
code | code | 编号
what | what | 内容
x | x | 数值
paired t | paired t test | 配对 t 检验
cluster-robust z | z test with cluster-robust errors | 聚类稳健标准误 z 检验
independent samples | independent samples | 独立样本
repeated | people in both quarters | 两季度均作答的人数
test | test | 检验
change_test | test of the change | 变化的检验
n_attractive | attractive (A) | 惊喜项（A）
n_one_dimensional | one-dimensional (O) | 加分项（O）
n_must_be | must-be (M) | 必备项（M）
n_indifferent | indifferent (I) | 无差异项（I）
n_reverse | reverse (R) | 反向项（R）
n_questionable | questionable (Q) | 可疑回答（Q）
kano_category | KANO category | KANO 类别
kano_mode | most frequent (plain mode) | 最多的类别（众数）
category_strength | category strength | 类别强度
total_strength | total strength (A + O + M) | 总强度（A + O + M）
kano_better | Better (satisfaction when present) | 满意影响系数（提供时）
kano_worse | Worse (dissatisfaction when absent) | 不满影响系数（缺失时）
fong_significant | top two differ (Fong) | 前两类有差异（Fong 检验）
functional | functional score | 正向题得分
functional_sd | functional score: SD | 正向题得分标准差
dysfunctional | dysfunctional score | 反向题得分
dysfunctional_sd | dysfunctional score: SD | 反向题得分标准差
minimum_share | minimum share of cases | 最低达标比例
attribute | attribute | 属性
prca | penalty–reward class | 惩罚—奖励类别
revisited_in_time | revisited within the standard | 在标准时间内回访
median_hours | median hours | 中位小时数
adjusted | adjusted mean | 调整后均值
remedy | remedy | 补偿方式
remedy_offered | remedies offered | 提供的补偿选项
recovered_at | remedy completed | 补偿完成时间
revisit_at | revisit | 回访时间
revisit_sat | revisit satisfaction (1–5) | 回访满意度（1–5）
complained_again | complained again | 再次投诉
revisit_hours | hours to the revisit | 回访用时（小时）
share_met_revisit_hours | remedies revisited within the standard | 在标准时间内回访的补偿比例
pairs | complete answer pairs | 完整的成对回答
incomplete | one question blank | 缺一题
questionable | questionable (Q) | 可疑回答（Q）
questionable_share | questionable share | 可疑回答比例
reverse_share | reverse share | 反向回答比例
reverse_answers | reverse (R) | 反向回答（R）
kano_questionable_share | questionable KANO answers | KANO 可疑回答比例
visits | visits | 暗访次数
score | score (0–100) | 得分（0–100）
rank_low | rank: 95% CI best | 排名 95%区间（最好）
rank_high | rank: 95% CI worst | 排名 95%区间（最差）
difference_low | difference: 95% CI lower | 差值 95%区间下限
difference_high | difference: 95% CI upper | 差值 95%区间上限
compliance | yes/no checks passed | 是否项合格率
compliance_low | checks passed: 95% CI lower | 合格率 95%区间下限
compliance_high | checks passed: 95% CI upper | 合格率 95%区间上限
critical_failures | visits failing a critical item | 关键项不合格的暗访次数
visit_id | visit | 暗访编号
visit_date | visit date | 暗访日期
shopper_id | shopper | 暗访员
failed_items | critical items failed | 不合格的关键项
comment | shopper's comment | 暗访员备注
variance | variance | 方差
component | variance component | 方差分量
effect | effect (score points) | 效应（得分点）
cases | calibration visits scored | 评分的校准暗访数
deviation | deviation from the other shoppers (points) | 与其他暗访员的偏差（分）
agreement | agreement with the majority | 与多数意见一致的比例
effect_of | effect of | 效应来源
store_quarters | store-quarters | 门店×季度数
audit | audit score | 暗访得分
perception_low | perception: 95% CI lower | 感知 95%区间下限
perception_high | perception: 95% CI upper | 感知 95%区间上限
icc | intraclass correlation | 组内相关系数
F | F | F 值
type | type | 类型
phi | reliability Φ (shoppers differ) | 信度 Φ（暗访员各不相同）
g | reliability Eρ² (same shoppers) | 信度 Eρ²（暗访员相同）
visit_checks | audit visits to check | 需核查的暗访
item_id | checklist item | 检查项
perception_se | perception: standard error | 感知标准误
yes_no | yes/no item | 是否项
checked | visits checking the item | 检查该项的暗访次数
passed | checks passed | 合格次数
checks | yes/no checks | 是否项检查次数
raw | score before the critical rule | 关键项规则前得分
critical_failed | failed a critical item | 关键项不合格
weekend_effect | weekend effect (points) | 周末效应（分）
visit_time | visit time | 暗访时间
visit_hour | hour of the visit | 暗访时刻（小时）
scenario | scenario | 情景
duration | duration (minutes) | 时长（分钟）
kind | kind of check | 核查类型
detail | detail | 详情
"""

# category codes that appear as values in tables and charts (dimensions, quadrants, classes, complaint causes)
_CODES = """
dish_not_as_described | dish not as described | 菜品与描述不符
service | service | 服务
product | product | 产品
other | other | 其他
staff | staff | 员工
complaint | complaint | 投诉
enquiry | enquiry | 咨询
floor | floor | 前厅
kitchen | kitchen | 厨房
cashier | cashier | 收银
housekeeping | housekeeping | 保洁
city | city | 市区
suburbs | suburbs | 郊区
tangibles | tangibles | 有形性
reliability | reliability | 可靠性
responsiveness | responsiveness | 响应性
assurance | assurance | 保证性
empathy | empathy | 移情性
overall | overall | 总体
unweighted | dimensions weighted equally | 各维度等权
weighted | weighted by stated importance | 按陈述重要性加权
E | expectation | 期望
P | perception | 感知
A | minimum adequate | 最低可接受
D | desired | 期望水平
expectation | expectation | 期望
perception | perception | 感知
gap | gap (P − E) | 差距（P − E）
Concentrate here | Concentrate here | 重点改进
Keep up the good work | Keep up the good work | 继续保持
Low priority | Low priority | 低优先级
Possible overkill | Possible overkill | 可能过度投入
concentrate here | concentrate here | 重点改进
keep up the good work | keep up the good work | 继续保持
low priority | low priority | 低优先级
possible overkill | possible overkill | 可能过度投入
excitement | excitement | 兴奋型
basic | basic | 基本型
performance | performance | 期望型
staff_attitude | staff attitude | 员工态度
slow_handling | slow handling | 问题处理慢
waiting_time | waiting time | 等候时间
billing | billing | 账单
delivery | delivery | 配送
product_quality | product quality | 产品质量
product_info | product information | 产品信息
technical | technical | 技术问题
account | account | 账户
unknown | not classified | 未分类
network | network | 网络
cleanliness | cleanliness | 卫生
minor | minor | 一般
major | major | 严重
critical | critical | 紧急
configural | configural | 形态等值
metric | metric | 单位等值
scalar | scalar | 标量等值
strict | strict | 严格等值
ML | ML | ML
FIML | FIML | FIML
WLSMV | WLSMV | WLSMV
North | North | 北区
South | South | 南区
East | East | 东区
West | West | 西区
store | store | 门店
phone | phone | 电话
online | online | 线上
chat | chat | 在线聊天
email | e-mail | 邮件
premium | premium | 高级版
standard | standard | 标准版
promoters | promoters | 推荐者
passives | passives | 被动者
detractors | detractors | 贬损者
yes | yes | 是
no | no | 否
True | yes | 是
False | no | 否
all | all | 全部
(all) | (all) | （全部）
(none) | (none) | （无）
(other) | (other) | （其他）
contact everyone | contact everyone | 联系所有人
contact nobody | contact nobody | 不联系任何人
perfect model | perfect model | 完美模型
model, best threshold | model, best threshold | 模型（最优阈值）
customers contacted | customers contacted | 联系的顾客
Satisfaction | Satisfaction | 满意度
satisfaction | satisfaction | 满意度
loyalty | loyalty | 忠诚度
minimum adequate | minimum adequate | 最低可接受
desired | desired | 期望水平
total | total | 合计
All | All | 合计
Loyalty | Loyalty | 忠诚度
don't know | don't know | 不知道
not applicable | not applicable | 不适用
answered share (all items, whole file) | answered share (all items, whole file) | 作答比例（全部题项，整个文件）
lowest item answered share | lowest item answered share | 题项最低作答比例
problems on loading | problems on loading | 加载时发现的问题
quarter audited | quarter audited | 审核季度
respondents in file | respondents in the file | 文件中受访者数
respondents in quarter | respondents in the quarter | 本季度受访者数
straight-liners in quarter | straight-liners in the quarter | 本季度直线作答者
too fast in quarter | too fast in the quarter | 本季度作答过快者
maturity level | maturity level | 成熟度层级
summary | summary | 汇总
contact list | contact list | 联系名单
ols | linear regression | 线性回归
finance | finance | 财务
front_office | front office | 前台
logistics | logistics | 物流
operations | operations | 运营
quality | quality | 质量
customer_service | customer service | 客服
it | IT | IT
ordinal | ordinal regression | 有序回归
kano_attractive | attractive | 惊喜项
kano_one_dimensional | one-dimensional | 加分项
kano_must_be | must-be | 必备项
kano_indifferent | indifferent | 无差异项
kano_reverse | reverse | 反向项
kano_questionable | questionable | 可疑回答
apology | apology | 道歉
voucher | voucher | 代金券
replacement | replacement | 更换
refund | refund | 退款
no_failure | no complaint | 无投诉
recovered | recovered well | 补救成功
not_recovered | not recovered well | 补救未成功
above_chain | above the chain | 高于全网
level_with_chain | cannot be told apart | 无法区分
below_chain | below the chain | 低于全网
executed_unhappy | standards executed, customers unhappy | 标准已执行，顾客仍不满意
unexecuted_content | standards not executed, customers content | 标准未执行，顾客仍满意
consistent | consistent | 一致
weekend | weekend | 周末
afternoon | afternoon (12–17 h) | 下午（12–17 时）
evening | evening (from 17 h) | 晚间（17 时后）
shopper | shopper | 暗访员
residual | visit (residual) | 单次暗访（残差）
greeting | greeting | 问候
needs | needs | 需求了解
closing | closing | 结束服务
environment | environment | 环境
ICC1 | ICC(1,1): one rater, one-way | ICC(1,1)：单一评分者，单向模型
ICC2 | ICC(A,1): one rater, absolute agreement | ICC(A,1)：单一评分者，绝对一致
ICC3 | ICC(C,1): one rater, consistency | ICC(C,1)：单一评分者，一致性
ICC1k | ICC(1,k): mean of k raters, one-way | ICC(1,k)：k 名评分者均值，单向模型
ICC2k | ICC(A,k): mean of k raters, absolute agreement | ICC(A,k)：k 名评分者均值，绝对一致
ICC3k | ICC(C,k): mean of k raters, consistency | ICC(C,k)：k 名评分者均值，一致性
duplicate_visit | entered twice | 重复录入
unlikely_time | unlikely time | 时间异常
repeat_shopper | shopper sent back to the store | 暗访员重复走访同一门店
"""

# the seed systems' words (PDCA, customer value): in a module of their own
from .catalogue_seeds import SEED_CODES, SEED_TERMS  # noqa: E402

_CATALOGUE += SEED_TERMS.lstrip("\n")
_CODES += SEED_CODES.lstrip("\n")
