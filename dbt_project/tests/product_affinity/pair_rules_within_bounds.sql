{#- Invariants of every pair rule: 0 <= support <= 1, 0 <= confidence <= 1, lift >= 0, and the
    support of a pair at most the support of either of its products. -#}
with items as (
    select product_id, support
    from {{ source('product_affinity', 'item_support') }}
)

select r.antecedent, r.consequent, r.support, r.confidence, r.lift
from {{ source('product_affinity', 'pair_rules') }} r
left join items a on a.product_id = r.antecedent
left join items b on b.product_id = r.consequent
where r.support < 0 or r.support > 1
   or r.confidence < 0 or r.confidence > 1
   or r.lift < 0
   or a.product_id is null or b.product_id is null
   or r.support > a.support + 1e-12
   or r.support > b.support + 1e-12
