# East's host is up but no IKE daemon listens on UDP 500: ICMP port unreachable.
EAST_PLUTO=no
UP_SECONDS=15
EXPECT_WEST="peer-ike-not-running|Connection refused [errno 111"
EXPECT_PEER="pluto-not-running|Pluto is not running"
