"""Sentences about psychometric results, in the reader's language: what a measurement-invariance test found and
what it allows. (The psychometrics layer's own ``statement()`` methods say the same in English for use outside
the report pages.)"""
from __future__ import annotations

from .messages import listed, msg, sentences, term


def level_name(level: str) -> str:
    """An invariance level's name: configural, metric, scalar or strict."""
    return {"configural": msg("invariance.configural", "configural"), "metric": msg("invariance.metric", "metric"),
            "scalar": msg("invariance.scalar", "scalar"), "strict": msg("invariance.strict", "strict")}.get(level, level)


def level_meaning(level: str) -> str:
    """What holds at an invariance level."""
    return {"configural": msg("invariance.configural_means", "the same factor structure"),
            "metric": msg("invariance.metric_means", "equal loadings"),
            "scalar": msg("invariance.scalar_means", "equal loadings and intercepts"),
            "strict": msg("invariance.strict_means", "equal loadings, intercepts and residuals")}.get(level, level)


def invariance(result) -> str:
    """One statement of :class:`sqmlib.psychometrics.invariance.InvarianceResult`: the level reached across the
    groups and what it allows."""
    head = msg("invariance.head", "Measurement invariance across {n} {group} groups: **{level}** ({meaning}).",
               n=len(result.groups), group=term(result.group), level=level_name(result.level),
               meaning=level_meaning(result.level))
    if result.means_comparable:
        allows = msg("invariance.means", "Dimension means can be compared across the groups.")
    elif result.level == "metric":
        allows = msg("invariance.relations", "Relations (correlations, regressions) can be compared, but "
                     "differences in dimension means may partly reflect items that work differently in some groups "
                     "— read mean comparisons with care.")
    else:
        allows = msg("invariance.nothing", "Even the loadings differ: neither means nor relations are strictly "
                     "comparable across the groups.")
    return sentences([head, allows])


def block_name(block: str) -> str:
    return {"E": msg("invariance.block_E", "expectations"), "P": msg("invariance.block_P", "perceptions"),
            "A": msg("invariance.block_A", "adequate service"),
            "D": msg("invariance.block_D", "desired service")}.get(block, block)


def survey_invariance(result, across_quarters: bool = False) -> str:
    """One statement of :class:`sqmlib.psychometrics.invariance.SurveyInvariance`: each rating block's level and
    whether the dimension means and gaps of the groups (or, ``across_quarters``, the gaps of different quarters)
    can be compared."""
    levels = [msg("invariance.block_level", "{block} {level}", block=block_name(b), level=level_name(r.level))
              for b, r in result.blocks.items()]
    head = msg("invariance.survey_head", "Measurement invariance across {by}: {levels}.", by=term(result.by),
               levels=listed(levels))
    if result.means_comparable:
        allows = (msg("invariance.quarters_comparable", "The items work alike in every group, so gaps of different "
                      "quarters can be compared.") if across_quarters else
                  msg("invariance.groups_comparable", "The items work alike in every group, so dimension means and "
                      "gaps can be compared."))
    else:
        allows = (msg("invariance.quarters_not_comparable", "Scalar invariance does not hold, so gaps of different "
                      "quarters are **not strictly comparable** across {by}: a difference may come from items that "
                      "work differently in some groups.", by=term(result.by)) if across_quarters else
                  msg("invariance.groups_not_comparable", "Scalar invariance does not hold, so dimension means and "
                      "gaps are **not strictly comparable** across {by}: a difference may come from items that work "
                      "differently in some groups.", by=term(result.by)))
    return sentences([head, allows])
