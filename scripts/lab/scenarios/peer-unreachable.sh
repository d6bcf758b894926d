# East runs pluto but a firewall silently drops IKE: west retransmits and times out.
before_up() { ip netns exec "$E" nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport { 500, 4500 } drop
    }
}
NFT
}
EXPECT_WEST="peer-unreachable|timeout exceeded after 5 retransmits"
EXPECT_PEER="firewall-blocks-ike|udp dport { 500, 4500 } drop"
EXPECT_EAST="firewall-blocks-ike|udp dport { 500, 4500 } drop"
