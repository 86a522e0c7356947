{#- The measures of a rule agree with its counts, over the stated denominator (all valid
    baskets): support = pair_count / total_baskets, confidence = pair_count / antecedent_count,
    lift = confidence / (consequent_count / total_baskets). -#}
select antecedent, consequent, support, confidence, lift
from {{ source('product_affinity', 'pair_rules') }}
where abs(support - cast(pair_count as double) / total_baskets) > 1e-9
   or abs(confidence - cast(pair_count as double) / antecedent_count) > 1e-9
   or abs(lift - (cast(pair_count as double) / antecedent_count)
                 / (cast(consequent_count as double) / total_baskets)) > 1e-9 * lift
   or pair_count > antecedent_count
   or pair_count > consequent_count
