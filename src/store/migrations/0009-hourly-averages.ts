// telemetry_hourly keeps, beside each hour's extremes, what `history` needs to show the hour as its
// polls were: the average and range of the temperature it charts (the chip's, else the board's) and
// of the slowest fan, and how many polls had each figure. Without them an hour of temperatures
// counted as its hottest poll that many times over (a month's average temperature was the average
// of hourly peaks), and an hour's average hashrate weighed as its answered polls, counting those
// that gave no figure. Hours rolled up before this migration keep NULL here; they read as before.
import type { Db } from '../types.js';

export const version = 9;
export const name = 'hourly-averages';

export function up(db: Db): void {
  db.exec(`
    ALTER TABLE telemetry_hourly ADD COLUMN hashrate_samples INTEGER;
    ALTER TABLE telemetry_hourly ADD COLUMN temp_avg_c REAL;
    ALTER TABLE telemetry_hourly ADD COLUMN temp_min_c REAL;
    ALTER TABLE telemetry_hourly ADD COLUMN temp_max_c REAL;
    ALTER TABLE telemetry_hourly ADD COLUMN temp_samples INTEGER;
    ALTER TABLE telemetry_hourly ADD COLUMN fan_avg_rpm REAL;
    ALTER TABLE telemetry_hourly ADD COLUMN fan_max_rpm INTEGER;
    ALTER TABLE telemetry_hourly ADD COLUMN fan_samples INTEGER;
    ALTER TABLE telemetry_hourly ADD COLUMN power_samples INTEGER;
  `);
}
