# East's pluto starts without an NSS database and stops at once with a FATAL ERROR: nothing answers IKE.
EAST_PLUTO=aborts
UP_SECONDS=15
EXPECT_WEST="peer-ike-not-running|Connection refused [errno 111"
EXPECT_EAST="pluto-not-running|FATAL ERROR: NSS"
EXPECT_PEER="pluto-not-running|FATAL ERROR: NSS"
