-- Live neighbour registrations of a cells v1 database (children at the parent, the parent at a child).
-- transport_url is deliberately not read: it carries broker credentials.
SELECT name, is_parent
FROM cells
WHERE deleted = 0
ORDER BY name
