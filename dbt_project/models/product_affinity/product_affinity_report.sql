{#- Every pair rule of the affinity job for merchandising, both directions, with the products'
    descriptions and supports, each product's partners ranked like the recommendations, and
    whether the pair is recommended in the web shop.

    No category affinity: Online Retail has no product category, and its descriptions are free
    text ("WHITE HANGING HEART T-LIGHT HOLDER"); any category made from them would be a guess
    presented as data. A category affinity report needs a product hierarchy as an input. -#}

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
),

ranked as (
    select
        *,
        row_number() over (
            partition by antecedent
            order by lift desc, confidence desc, consequent asc
        ) as partner_rank
    from rules
),

products as (
    select product_id, description
    from {{ source('retail_orders', 'products') }}
),

items as (
    select product_id, support
    from {{ source('product_affinity', 'item_support') }}
)

select
    r.antecedent as product_id,
    p.description,
    r.consequent as partner_id,
    q.description as partner_description,
    cast(r.partner_rank as bigint) as partner_rank,
    cast(r.pair_count as bigint) as pair_count,
    r.support as pair_support,
    a.support as product_support,
    b.support as partner_support,
    r.confidence,
    r.lift,
    case when rec.product_id is null then false else true end as recommended
from ranked r
left join products p on p.product_id = r.antecedent
left join products q on q.product_id = r.consequent
left join items a on a.product_id = r.antecedent
left join items b on b.product_id = r.consequent
left join {{ ref('cross_sell_recommendations') }} rec
    on rec.product_id = r.antecedent
   and rec.recommended_product_id = r.consequent
