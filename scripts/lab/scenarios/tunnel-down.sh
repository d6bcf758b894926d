# The connection is loaded (auto=add) but nobody ever brought it up.
initiate() { :; }
