-- Nova's wide utf8mb3 rows exceed the default 1024, which makes ORDER BY re-read every row by primary key.
SET SESSION max_length_for_sort_data = 8192
