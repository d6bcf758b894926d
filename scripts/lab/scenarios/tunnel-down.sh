# The connection is loaded (auto=add) but nobody ever brought it up.
initiate() { :; }
EXPECT_WEST="tunnel-down|conn westnet-eastnet"
EXPECT_PEER="tunnel-down|auto=add"
