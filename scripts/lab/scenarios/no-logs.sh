# The tunnel failed, but the capture has neither pluto's log nor the `ipsec up` output: too thin to decide.
EAST_PLUTO=no
UP_SECONDS=3
after_up() { rm -f "$RUN/west/ipsec-up.txt"; mv "$RUN/west/pluto.log" "$RUN/west/pluto.log.not-captured"; }
EXPECT_WEST="debug-logging|conn westnet-eastnet"
EXPECT_PEER="pluto-not-running|Pluto is not running"
