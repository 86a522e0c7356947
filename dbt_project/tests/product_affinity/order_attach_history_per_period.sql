{#- Whether a period has a trailing window is a property of the period: every order of a
    period says the same, and an order can only be attached when its period has history. -#}
select cast(period as string) as period
from {{ source('product_affinity', 'order_attach') }}
group by cast(period as string)
having min(case when has_history then 1 else 0 end)
       <> max(case when has_history then 1 else 0 end)
    or max(case when attached and not has_history then 1 else 0 end) = 1
