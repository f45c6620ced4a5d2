-- A resident's erasure (消去) deletes their choices and feeds.
grant delete on calendar.resident_settings, calendar.feeds to machi_app;
