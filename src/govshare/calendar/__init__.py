"""Working days (工作日): chinese-calendar plus the administrator's corrections, and deadline arithmetic.

Other domains call ``govshare.calendar.service``: ``add_working_days`` when a clock starts,
``clock`` when a page shows it, ``on_change`` to recompute their provisional due dates once an
administrator loads or corrects a year.
"""
