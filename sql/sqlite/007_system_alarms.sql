-- System alarms: which condition a 'system' alarm stands for ('offline': a device went silent;
-- 'integrity': a verification found stored data changed outside Inlet). The offline detector and
-- the verification find their own uncleared alarms here after a restart, instead of raising them
-- again. NULL for limit alarms.
ALTER TABLE alarms ADD COLUMN kind TEXT CHECK (kind IS NULL OR (source = 'system' AND kind IN ('offline', 'integrity')));

-- At most one uncleared offline alarm per device, even with two gateways on one database.
CREATE UNIQUE INDEX ux_alarms_open_offline ON alarms (device_id) WHERE kind = 'offline' AND cleared_at IS NULL;

-- The lifecycle trigger of 005, with the new column fixed at raise like the others.
DROP TRIGGER tr_alarms_lifecycle_only;
CREATE TRIGGER tr_alarms_lifecycle_only BEFORE UPDATE ON alarms
WHEN NEW.id IS NOT OLD.id OR NEW.device_id IS NOT OLD.device_id OR NEW.channel IS NOT OLD.channel
  OR NEW.source IS NOT OLD.source OR NEW.level IS NOT OLD.level OR NEW.direction IS NOT OLD.direction
  OR NEW.raised_at IS NOT OLD.raised_at OR NEW.value IS NOT OLD.value OR NEW.message IS NOT OLD.message OR NEW.kind IS NOT OLD.kind
  OR (OLD.acknowledged_at IS NOT NULL AND (NEW.acknowledged_at IS NOT OLD.acknowledged_at OR NEW.acknowledged_by IS NOT OLD.acknowledged_by OR NEW.ack_comment IS NOT OLD.ack_comment))
  OR (OLD.cleared_at IS NOT NULL AND (NEW.cleared_at IS NOT OLD.cleared_at OR NEW.cleared_value IS NOT OLD.cleared_value))
BEGIN SELECT RAISE(ABORT, 'an alarm can only be acknowledged once and cleared once'); END;
