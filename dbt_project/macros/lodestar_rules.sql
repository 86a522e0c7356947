{#- The predicate a pair rule must meet to be recommended: the manifest's thresholds of the
    affinity step (confidence and lift, and support as a share or a basket count). -#}
{% macro lodestar_rule_passes(thresholds) -%}
    {%- set t = thresholds or {} -%}
    confidence >= {{ t.get('min_confidence') or 0 }}
    and lift >= {{ t.get('min_lift') or 0 }}
    {%- if t.get('min_support') is not none %}
    and support >= {{ t.get('min_support') }}
    {%- endif %}
    {%- if t.get('min_support_count') is not none %}
    and pair_count >= {{ t.get('min_support_count') }}
    {%- endif %}
{%- endmacro %}

{#- Orders and attached orders per period, with whether the period had a trailing window to
    learn from. The denominator is every valid order of the period (retail-orders' orders), as
    the manifest's measure says; an order counts as attached when the affinity job found at
    least one pair of the period's out-of-sample rules in it. Only months count: orders without
    a usable time (period 'unknown') belong to no month. -#}
{% macro lodestar_attach_by_period() -%}
    select
        o.period,
        count(*) as order_count,
        sum(case when a.attached then 1 else 0 end) as attached_orders,
        max(case when h.has_history = 1 then 1 else 0 end) as has_history
    from (
        select cast(period as string) as period, order_id
        from {{ source('retail_orders', 'orders') }}
        where {{ lodestar_is_month('cast(period as string)') }}
    ) o
    left join (
        select order_id, cast(period as string) as period, attached
        from {{ source('product_affinity', 'order_attach') }}
    ) a
        on a.order_id = o.order_id and a.period = o.period
    left join (
        select
            cast(period as string) as period,
            max(case when has_history then 1 else 0 end) as has_history
        from {{ source('product_affinity', 'order_attach') }}
        group by cast(period as string)
    ) h
        on h.period = o.period
    group by o.period
{%- endmacro %}

{#- Whether a period label is a month (YYYY-MM). The ingest job files rows without a usable
    time under the period 'unknown': no month's measure can count them. -#}
{% macro lodestar_is_month(expression) -%}
    {{ expression }} like '____-__'
{%- endmacro %}
