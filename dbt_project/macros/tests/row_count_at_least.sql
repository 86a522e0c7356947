{#- The model holds at least min_rows rows. -#}
{% test row_count_at_least(model, min_rows) %}
select row_count
from (select count(*) as row_count from {{ model }}) counted
where row_count < {{ min_rows }}
{% endtest %}
