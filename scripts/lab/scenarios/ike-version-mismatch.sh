# West is IKEv1-only, east is IKEv2-only.
west_conn() { IKE_VERSION=ikev1 conn_body west; }
east_conn() { IKE_VERSION=ikev2 conn_body east; }
