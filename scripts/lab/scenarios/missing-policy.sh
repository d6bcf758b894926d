# The tunnel is up but west's outbound SPD entry was deleted: traffic leaves unencrypted.
KERNEL=guest
after_up() {
    sleep 1
    ip netns exec "$W" ip xfrm policy delete src 10.1.0.0/24 dst 10.2.0.0/24 dir out
    west_pings 56
}
EXPECT_WEST="missing-policy|type=ESP"
EXPECT_PEER="missing-policy|westnet-eastnet"
