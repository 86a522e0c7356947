{#- Lift and support are symmetric: where both directions of a pair are kept, a -> b and
    b -> a have the same lift, support and pair count. -#}
select f.antecedent, f.consequent, f.lift, b.lift as reverse_lift
from {{ source('product_affinity', 'pair_rules') }} f
join {{ source('product_affinity', 'pair_rules') }} b
    on b.antecedent = f.consequent and b.consequent = f.antecedent
where abs(f.lift - b.lift) > 1e-9 * abs(f.lift)
   or abs(f.support - b.support) > 1e-12
   or f.pair_count <> b.pair_count
