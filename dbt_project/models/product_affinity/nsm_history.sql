{#- The North Star Metric, cross-sell attach rate, one row per period, kept across runs.

    A run recomputes every period present in the lake and replaces those rows (delete+insert on
    DuckDB, a dynamic partition overwrite on Spark); rows of periods no longer in the lake stay,
    so the table is the metric's history. A period measured before is never replaced by a
    no_history row: when the lake no longer holds the window before its first period, that
    period's earlier measurement is kept. Rerunning on the same data gives the same rows.

    value: orders of the period holding a pair recommended from the trailing window before it,
    over the orders the affinity job measured (the valid orders after its oversize policy);
    null, with status no_history, when the period had no trailing window. gap = value - target; on_track follows the direction (within 5% of target
    for maintain). -#}
{%- set spark = target.type == 'spark' -%}
{{ config(
    materialized='incremental',
    unique_key='period',
    incremental_strategy=('insert_overwrite' if spark else 'delete+insert'),
    partition_by=(['period'] if spark else none),
    on_schema_change='fail'
) }}
{%- set nsm = lodestar_param('product_affinity', 'north_star') or {} -%}

with attach as (
    {{ lodestar_attach_by_period() }}
),

measured as (
    select
        period,
        {{ lodestar_attach_rate('attach') }} as value,
        cast(measured_orders as bigint) as measured_orders,
        cast(attached_orders as bigint) as attached_orders,
        case
            when has_history = 1 and measured_orders > 0 then 'measured' else 'no_history'
        end as status
    from attach
)

select
    '{{ nsm.get("id") }}' as nsm_id,
    value,
    cast({{ nsm.get("target") }} as double) as target,
    value - cast({{ nsm.get("target") }} as double) as gap,
    '{{ nsm.get("direction") }}' as direction,
    case
        when value is null then null
        {%- if nsm.get("direction") == "decrease" %}
        when value <= {{ nsm.get("target") }} then true
        {%- elif nsm.get("direction") == "maintain" %}
        when abs(value - {{ nsm.get("target") }}) <= abs({{ nsm.get("target") }}) * 0.05 then true
        {%- else %}
        when value >= {{ nsm.get("target") }} then true
        {%- endif %}
        else false
    end as on_track,
    status,
    measured_orders,
    attached_orders,
    period
from measured
{%- if is_incremental() %}
where not (
    status = 'no_history'
    and period in (select period from {{ this }} where status = 'measured')
)
{%- endif %}
