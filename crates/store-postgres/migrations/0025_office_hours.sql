-- When a widget's people are there (null: no hours set, the widget never says it is away).
ALTER TABLE widgets ADD COLUMN office_hours_json TEXT;
