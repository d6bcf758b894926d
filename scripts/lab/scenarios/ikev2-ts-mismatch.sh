# IKEv2: west asks for east's 10.2.0.0/24 but east offers 10.2.5.0/24 (subnets do not mirror).
EAST_SUBNET=10.2.5.0/24
WEST_SEES_EAST_SUBNET=10.2.0.0/24
EXPECT_WEST="ts-mismatch|TS_UNACCEPTABLE"
EXPECT_PEER="ts-mismatch|compatible Traffic Selectors"
EXPECT_EAST="ts-mismatch|compatible Traffic Selectors"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
