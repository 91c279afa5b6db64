"""The incident machine: one class (`incident.IncidentMachine`) over plain functions, pure and given `now`."""
