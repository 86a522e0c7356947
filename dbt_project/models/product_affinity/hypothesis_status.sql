{#- For each hypothesis of the manifest: the latest value of the measure it expects to move,
    its change against the goal's baseline, and whether it moved in the predicted direction
    (for maintain: stayed within 5% of the baseline). The latest value is that of the latest
    period with a value; a measure without any value yet gives status no_data. The measures are
    read from the outputs the manifest names for them. -#}
{%- set hypotheses = lodestar_param('product_affinity', 'hypotheses') or [] -%}
{%- set measures = lodestar_param('product_affinity', 'measures') or [] -%}
{%- set outputs = {
    'goal_measures': ref('goal_measures'),
    'nsm_history': ref('nsm_history'),
} -%}

with measure_values as (
    {%- for m in measures if m.output in outputs %}
    select '{{ m.name }}' as measure, period, cast({{ m.column }} as double) as value
    from {{ outputs[m.output] }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as string) as measure, cast(null as string) as period,
        cast(null as double) as value
    {%- endfor %}
),

latest as (
    select measure, period, value
    from (
        select
            measure,
            period,
            value,
            row_number() over (partition by measure order by period desc) as recency
        from measure_values
        where value is not null
    ) ordered
    where recency = 1
),

hypotheses as (
    {%- for h in hypotheses %}
    select
        '{{ h.id }}' as hypothesis_id,
        '{{ h.initiative }}' as initiative_id,
        '{{ h.goal }}' as goal_id,
        '{{ h.measure }}' as measure,
        '{{ h.expected_direction }}' as expected_direction,
        {{ lodestar_double(h.baseline) }} as baseline,
        {{ lodestar_double(h.target) }} as target
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as string) as hypothesis_id,
        cast(null as string) as initiative_id,
        cast(null as string) as goal_id,
        cast(null as string) as measure,
        cast(null as string) as expected_direction,
        cast(null as double) as baseline,
        cast(null as double) as target
    from measure_values
    where 1 = 0
    {%- endfor %}
),

judged as (
    select
        h.*,
        l.period as latest_period,
        l.value as latest_value,
        l.value - h.baseline as change,
        case
            when h.baseline <> 0 then (l.value - h.baseline) / abs(h.baseline)
        end as relative_change,
        case
            when l.value is null then null
            when h.expected_direction = 'increase' then l.value > h.baseline
            when h.expected_direction = 'decrease' then l.value < h.baseline
            else abs(l.value - h.baseline) <= abs(h.baseline) * 0.05
        end as moved_as_predicted,
        case
            when l.value is null then null
            when h.expected_direction = 'increase' then l.value >= h.target
            when h.expected_direction = 'decrease' then l.value <= h.target
            else abs(l.value - h.target) <= abs(h.target) * 0.05
        end as reached_target
    from hypotheses h
    left join latest l on l.measure = h.measure
)

select
    *,
    case
        when moved_as_predicted is null then 'no_data'
        when moved_as_predicted then 'as_predicted'
        else 'not_as_predicted'
    end as status
from judged
