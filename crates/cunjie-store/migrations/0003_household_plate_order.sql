-- Paging a village's households in door-plate order without sorting 5,000 rows each time.
CREATE INDEX household_village_plate ON household (village_id, door_plate);
