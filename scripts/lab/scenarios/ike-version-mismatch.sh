# West is IKEv1-only, east is IKEv2-only.
west_conn() { IKE_VERSION=ikev1 conn_body west; }
east_conn() { IKE_VERSION=ikev2 conn_body east; }
EXPECT_WEST="peer-unreachable|STATE_MAIN_I1"
EXPECT_PEER="ike-version-mismatch|no connection has been authorized"
EXPECT_EAST="ike-version-mismatch|initial Main Mode message received"
