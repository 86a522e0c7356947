{#- The goals' measures per period (month): basket breadth (mean distinct products per valid
    order), revenue per order (revenue of valid lines over valid orders) and the attach rate
    (out of sample, null for a period without a trailing window to learn from). Orders without
    a usable time (period 'unknown') belong to no month and are left out. -#}

with orders as (
    select
        cast(period as string) as period,
        count(*) as order_count,
        avg(cast(distinct_items as double)) as basket_breadth,
        sum(revenue) / count(*) as revenue_per_order
    from {{ source('retail_orders', 'orders') }}
    where {{ lodestar_is_month('cast(period as string)') }}
    group by cast(period as string)
),

attach as (
    {{ lodestar_attach_by_period() }}
)

select
    o.period,
    cast(o.order_count as bigint) as order_count,
    o.basket_breadth,
    o.revenue_per_order,
    {{ lodestar_attach_rate('a') }} as attach_rate,
    cast(a.measured_orders as bigint) as measured_orders,
    cast(a.attached_orders as bigint) as attached_orders,
    case when a.has_history = 1 then true else false end as has_history
from orders o
left join attach a on a.period = o.period
