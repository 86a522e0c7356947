{#- The NSM is measured out of sample: the rules of period P are learned from a window that
    ends strictly before P. -#}
select period, window_start, window_end, antecedent, consequent
from {{ source('product_affinity', 'period_rules') }}
where not (substr(cast(window_end as string), 1, 7) < cast(period as string))
   or window_start > window_end
