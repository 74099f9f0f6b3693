"""Pure open/closed evaluation of 8x8 schedules (no Django): see docs/schedules.md."""
