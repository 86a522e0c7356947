{#- Cross-sell e-mail audiences: each known customer who bought a product within the window
    but did not buy its recommended partner within the same window, with that partner as the
    offer. The window is the audience_window_days days up to the latest order of the data, so a
    rerun on the same data gives the same audience. One row per customer and offer: when several
    bought products recommend the same offer, the best recommendation (rank, lift, confidence,
    product id) is the reason kept. -#}
{%- set days = lodestar_param('product_affinity', 'audience_window_days') -%}

with bounds as (
    select
        max(ordered_at) as window_end,
        max(ordered_at) - interval {{ days }} days as window_start
    from {{ source('retail_orders', 'order_lines') }}
),

bought as (
    select
        l.customer_id,
        l.product_id,
        max(l.ordered_at) as last_ordered_at
    from {{ source('retail_orders', 'order_lines') }} l
    cross join bounds b
    where l.customer_id is not null
      and l.ordered_at > b.window_start
      and l.ordered_at <= b.window_end
    group by l.customer_id, l.product_id
),

candidates as (
    select
        c.customer_id,
        r.recommended_product_id as offer_product_id,
        c.product_id,
        r.rank as recommendation_rank,
        r.lift,
        r.confidence,
        c.last_ordered_at
    from bought c
    join {{ ref('cross_sell_recommendations') }} r
        on r.product_id = c.product_id
    left join bought already
        on already.customer_id = c.customer_id
       and already.product_id = r.recommended_product_id
    where already.customer_id is null
),

chosen as (
    select
        *,
        row_number() over (
            partition by customer_id, offer_product_id
            order by recommendation_rank asc, lift desc, confidence desc, product_id asc
        ) as choice
    from candidates
)

select
    c.customer_id,
    c.offer_product_id,
    c.product_id,
    c.recommendation_rank,
    c.lift,
    c.confidence,
    c.last_ordered_at,
    b.window_start,
    b.window_end
from chosen c
cross join bounds b
where c.choice = 1
