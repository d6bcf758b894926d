# IKEv1: Quick Mode IDs (subnets) do not mirror; east answers INVALID_ID_INFORMATION.
IKE_VERSION=ikev1
UP_SECONDS=20
EAST_SUBNET=10.2.5.0/24
WEST_SEES_EAST_SUBNET=10.2.0.0/24
EXPECT_WEST="ts-mismatch|INVALID_ID_INFORMATION"
EXPECT_PEER="ts-mismatch|cannot respond to IPsec SA request"
EXPECT_EAST="ts-mismatch|cannot respond to IPsec SA request"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
