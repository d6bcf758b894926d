# West masquerades with nftables (captured on the host kernel, which has nftables): the tunnel's
# subnet-to-subnet traffic would be rewritten before IPsec. The connection is loaded, not yet up.
before_up() { ip netns exec "$W" nft -f - <<'NFT'
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "vw" masquerade
    }
}
NFT
}
initiate() { :; }
EXPECT_WEST="nat-before-ipsec|masquerade"
EXPECT_PEER="nat-before-ipsec|masquerade"
