{#- Nobody is offered a product they bought within the audience window. -#}
select a.customer_id, a.offer_product_id
from {{ ref('campaign_audiences') }} a
join {{ source('retail_orders', 'order_lines') }} l
    on l.customer_id = a.customer_id
   and l.product_id = a.offer_product_id
   and l.ordered_at > a.window_start
   and l.ordered_at <= a.window_end
