-- Live neighbour registrations with their message-broker URLs, for the opt-in brokers check only.
-- transport_url carries broker credentials: src/broker.rs reads hosts and ports from it and never shows it.
SELECT name, is_parent, transport_url
FROM cells
WHERE deleted = 0
ORDER BY name
