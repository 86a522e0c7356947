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

{#- Per month of the orders: the orders the affinity job measured (order_attach: the valid
    orders after its oversize policy, which its statistics report), those holding at least one
    pair of the month's out-of-sample rules, and whether the month had a trailing window to
    learn from. Only months count: orders without a usable time (period 'unknown') belong to
    no month. -#}
{% macro lodestar_attach_by_period() -%}
    select
        o.period,
        coalesce(a.measured_orders, 0) as measured_orders,
        coalesce(a.attached_orders, 0) as attached_orders,
        coalesce(a.has_history, 0) as has_history
    from (
        select distinct cast(period as string) as period
        from {{ source('retail_orders', 'orders') }}
        where {{ lodestar_is_month('cast(period as string)') }}
    ) o
    left join (
        select
            cast(period as string) as period,
            count(*) as measured_orders,
            sum(case when attached then 1 else 0 end) as attached_orders,
            max(case when has_history then 1 else 0 end) as has_history
        from {{ source('product_affinity', 'order_attach') }}
        group by cast(period as string)
    ) a
        on a.period = o.period
{%- endmacro %}

{#- The NSM of one period from lodestar_attach_by_period's columns: null without history. -#}
{% macro lodestar_attach_rate(alias) -%}
    case
        when {{ alias }}.has_history = 1 and {{ alias }}.measured_orders > 0
            then cast({{ alias }}.attached_orders as double) / {{ alias }}.measured_orders
    end
{%- endmacro %}

{#- Whether a period label is a month (YYYY-MM). The ingest job files rows without a usable
    time under the period 'unknown': no month's measure can count them. -#}
{% macro lodestar_is_month(expression) -%}
    {{ expression }} like '____-__'
{%- endmacro %}
