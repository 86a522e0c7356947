{#- goal_measures.attach_rate and nsm_history.value are the same measure: equal (or both null)
    for every period of the current data. -#}
select g.period, g.attach_rate, n.value
from {{ ref('goal_measures') }} g
join {{ ref('nsm_history') }} n on n.period = g.period
where (g.attach_rate is null) <> (n.value is null)
   or abs(g.attach_rate - n.value) > 1e-12
