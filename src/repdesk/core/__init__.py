"""The standard-library core: dates, money, KPI maths, text, clock, domain words, errors.

Nothing here imports a third-party package or another layer of repdesk."""
