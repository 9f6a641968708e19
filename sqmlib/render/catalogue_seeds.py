"""The label catalogue of the seed systems (PDCA, customer value): identifier | English | Chinese."""

SEED_TERMS = """
order_id | order | 订单
order_time | ordered at | 下单时间
amount | amount | 金额
order_checks | orders to check | 需核查的订单
param_r | r (shape of the purchase rates) | r（购买率的形状参数）
param_alpha | α (scale of the purchase rates) | α（购买率的尺度参数）
param_a | a (dropout, Beta shape) | a（流失概率的 Beta 形状参数）
param_b | b (dropout, Beta shape) | b（流失概率的 Beta 形状参数）
param_s | s (shape of the dropout rates) | s（流失率的形状参数）
param_beta | β (scale of the dropout rates) | β（流失率的尺度参数）
param_p | p (shape of the spend per order) | p（每单消费的形状参数）
param_q | q (shape of the spend level) | q（消费水平的形状参数）
param_v | γ (scale of the spend level) | γ（消费水平的尺度参数）
action_id | action | 措施
title | title | 标题
scope | scope | 范围
owner | owner | 负责人
verdict | verdict | 结论
method | method | 方法
action_effect | effect (in the KPI's unit) | 效果（KPI 单位）
periods_before | periods before the start | 开始前的期数
periods_after | periods after the start | 开始后的期数
pretrend_p | p of the pre-trend test | 事前趋势检验 p 值
level_before | level before | 实施前水平
level_after | level after | 实施后水平
proposed_target | proposed target | 建议目标
share_before | share before | 之前占比
share_after | share after | 之后占比
rate_before | rate before | 之前比率
rate_after | rate after | 之后比率
mix | mix (shares changed) | 结构效应（占比变化）
dims | segment columns | 细分维度
segments | segments | 细分群体
power | share of the change explained | 解释的变化比例
surprise | surprise (Jensen–Shannon) | 意外度（JS 散度）
before | before | 之前
after | after | 之后
before_each | before, per segment | 各细分之前
after_each | after, per segment | 各细分之后
cause | root cause | 根本原因
scope_column | scope column | 范围维度
scope_values | scope | 范围
expected_size | expected change | 预期变化
end | due | 截止日期
start | start | 开始日期
controls | control units | 对照单位
why1 | why 1 | 为什么 1
why2 | why 2 | 为什么 2
why3 | why 3 | 为什么 3
why4 | why 4 | 为什么 4
why5 | why 5 | 为什么 5
customers_share | share of customers | 客户占比
value_share | share of lifetime value | 价值占比
mean_clv | mean lifetime value | 平均生命周期价值
monetary | spend | 消费金额
orders | orders | 订单数
decile | tenth | 十分位组
p_alive | P(still a customer) | 仍为活跃客户的概率
purchases_90d | expected purchases (90 days) | 预期购买次数（90 天）
expected_spend | expected spend per order | 每单预期消费
repeat_periods | weeks with a repeat purchase | 有重复购买的周数
age_at_last | age at the last purchase | 最后一次购买时的客龄
age | age (weeks) | 客龄（周）
monetary_value | mean repeat spend | 平均重复消费
recency_days | days since the last order | 距上次下单天数
r_score | R score | R 得分
f_score | F score | F 得分
m_score | M score | M 得分
segment_zh | segment (Chinese map) | 客户分层（八类）
suggested_action | suggested action | 建议措施
qini | Qini area | Qini 面积
uplift_auc | uplift area | 增益曲线面积
uplift | uplift (P(stay) change) | 增益（留存概率变化）
incremental_value | expected incremental value | 预期增量价值
measured_uplift | measured effect on staying | 对留存的实测效果
most_valuable | most valuable customers | 价值最高的客户
mean_orders | orders per customer | 人均订单数
avg_spend | spend per customer | 人均消费金额
treated | contacted | 被联系
not contacted | not contacted | 未被联系
contacted | contacted | 被联系
two_model | two-model learner | 双模型方法
x_learner | X-learner | X 学习器
actual | actual | 实际
estimate | estimate | 估计值
active | active | 活跃
segment before | segment then | 之前的细分
segment after | segment now | 现在的细分
segment_zh before | segment then | 之前的细分
segment_zh after | segment now | 现在的细分
repeat purchases before | repeat purchases before the hold-out | 检验期前的重复购买次数
persistence | effect after the end | 结束后的效果
unresolved_complaints | complaints not resolved at the first contact | 首次未解决的投诉数
enquiries | enquiries | 咨询数
"""

SEED_CODES = """
negative_amount | refund line (negative amount) | 退款行（负金额）
refunded | refunded in full | 全额退款
duplicate_order | order entered twice | 重复录入的订单
future_date | dated after the data's end | 日期晚于数据截止日
people | people | 人（人员）
machines | machines | 机（设备）
materials | materials | 料（物料）
methods | methods | 法（方法）
measurement | measurement | 测（测量）
unmapped | not mapped (or no category) | 未归类（或无类别）
effective | effective | 有效
not_shown | not shown to work | 未证实有效
worse | made it worse | 变差
cannot_judge | cannot judge | 无法判断
planned | planned | 计划中
doing | doing | 执行中
checking | checking | 检查中
standardised | standardised | 已标准化
dropped | dropped | 已放弃
did | difference-in-differences | 双重差分
its | interrupted time series | 中断时间序列
down | down | 下降
up | up | 上升
champions | champions | 冠军客户
loyal_customers | loyal customers | 忠诚客户
potential_loyalists | potential loyalists | 潜在忠诚客户
new_customers | new customers | 新客户
promising | promising | 有潜力客户
need_attention | need attention | 需要关注
about_to_sleep | about to sleep | 即将沉睡
at_risk | at risk | 有流失风险
cant_lose_them | can't lose them | 不能失去的客户
hibernating | hibernating | 沉睡客户
important_value | important value | 重要价值客户
important_develop | important to develop | 重要发展客户
important_keep | important to keep | 重要保持客户
important_win_back | important to win back | 重要挽留客户
ordinary_value | ordinary value | 一般价值客户
ordinary_develop | ordinary to develop | 一般发展客户
ordinary_keep | ordinary to keep | 一般保持客户
ordinary_win_back | ordinary to win back | 一般挽留客户
reward_and_ask_referrals | reward them, ask for referrals | 给予回馈并邀请推荐
upsell_and_vip_service | VIP service, offer more | 提供 VIP 服务并推荐升级
membership_offer | offer a membership | 推荐会员计划
onboarding | welcome and onboarding | 欢迎与入门引导
build_habit | build a buying habit | 培养购买习惯
personal_contact | contact them personally | 个人化联系
reactivate_with_offer | reactivate with an offer | 用优惠唤醒
win_back_now | win them back now | 立即挽回
low_cost_reactivation | low-cost reactivation | 低成本唤醒
new | new | 新增
aspect | aspect | 服务方面
rating | star rating | 星级评分
sentence | sentence | 句子
accuracy | accuracy | 准确率
clause_text | clause | 分句
lexicon | lexicon | 词典
model (cross-validated) | model (cross-validated) | 模型（交叉验证）
aspects | aspects and sentiment | 服务方面及褒贬
feedback_text | feedback | 反馈内容
polarity | polarity (+1 praise, −1 complaint) | 褒贬（+1 表扬，−1 投诉）
feedback_id | feedback | 反馈编号
created_at | written | 时间
waiting | waiting | 等待
competence | competence | 专业能力
price_billing | price and billing | 价格与账单
digital | digital channels | 线上渠道
negative_share | share negative | 负面占比
recent_negative | negative mentions, last weeks | 近几周负面提及
baseline_negative | negative mentions, weeks before | 此前各周负面提及
recent_items | feedback, last weeks | 近几周反馈数
baseline_items | feedback, weeks before | 此前各周反馈数
rate_ratio | rate ratio | 比率之比
q_value | q (Benjamini–Hochberg) | q 值（BH 校正）
mentions | mentions | 提及次数
this_week | negative mentions this week | 本周负面提及
last_week | the week before | 上周
weekly_mean_before | weekly mean, weeks before | 此前各周周均
actions | PDCA actions | PDCA 改进措施
keywords | keywords | 关键词
source | source | 来源
language | language | 语言
review | online review | 网络评价
call | call | 来电
survey_comment | survey comment | 问卷留言
ticket | ticket | 工单
platform | platform | 平台
zh | Chinese | 中文
en | English | 英文
week starting | week starting | 周起始日
"""
