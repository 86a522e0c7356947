{#- Top partners of each product for the web shop: the rules above the manifest's thresholds,
    ranked by lift, then confidence, then partner id, so that equal scores always rank the
    same way. -#}
{%- set top_n = lodestar_param('product_affinity', 'recommendations_per_product') -%}
{%- set thresholds = lodestar_param('product_affinity', 'thresholds') -%}

with rules as (
    select
        antecedent,
        consequent,
        pair_count,
        support,
        confidence,
        lift
    from {{ source('product_affinity', 'pair_rules') }}
    where antecedent <> consequent
      and {{ lodestar_rule_passes(thresholds) }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by antecedent
            order by lift desc, confidence desc, consequent asc
        ) as partner_rank
    from rules
)

select
    antecedent as product_id,
    consequent as recommended_product_id,
    cast(partner_rank as bigint) as rank,
    cast(pair_count as bigint) as pair_count,
    support,
    confidence,
    lift
from ranked
where partner_rank <= {{ top_n }}
