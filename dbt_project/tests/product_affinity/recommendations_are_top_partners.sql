{#- The recommendations of a product are exactly its best rules above the thresholds: ranks run
    1..n without gaps, n = min(recommendations_per_product, rules passing), and no rule left
    out ranks before a kept one by (lift desc, confidence desc, partner id). -#}
{%- set top_n = lodestar_param('product_affinity', 'recommendations_per_product') -%}
{%- set thresholds = lodestar_param('product_affinity', 'thresholds') -%}

with passing as (
    select antecedent, consequent, lift, confidence
    from {{ source('product_affinity', 'pair_rules') }}
    where antecedent <> consequent
      and {{ lodestar_rule_passes(thresholds) }}
),

recommended as (
    select product_id, recommended_product_id, rank, lift, confidence
    from {{ ref('cross_sell_recommendations') }}
),

per_product as (
    select product_id, count(*) as kept, max(rank) as last_rank, min(rank) as first_rank
    from recommended
    group by product_id
),

available as (
    select antecedent as product_id, count(*) as rules
    from passing
    group by antecedent
),

wrong_counts as (
    select coalesce(p.product_id, a.product_id) as product_id, 'count' as problem
    from per_product p
    full outer join available a on a.product_id = p.product_id
    where p.product_id is null
       or a.product_id is null
       or p.kept <> least(a.rules, {{ top_n }})
       or p.first_rank <> 1
       or p.last_rank <> p.kept
),

worst_kept as (
    select product_id, lift, confidence, recommended_product_id
    from recommended r
    where rank = (select max(rank) from recommended x where x.product_id = r.product_id)
),

better_left_out as (
    select s.antecedent as product_id, 'order' as problem
    from passing s
    join worst_kept w on w.product_id = s.antecedent
    left join recommended r
        on r.product_id = s.antecedent and r.recommended_product_id = s.consequent
    where r.product_id is null
      and (s.lift > w.lift
           or (s.lift = w.lift and s.confidence > w.confidence)
           or (s.lift = w.lift and s.confidence = w.confidence
               and s.consequent < w.recommended_product_id))
)

select * from wrong_counts
union all
select * from better_left_out
