# IKEv2: the IKE SA is fine, the Child SA (ESP, phase 2) algorithms have no overlap.
WEST_EXTRA="    esp=aes256-sha2_512"
EAST_EXTRA="    esp=aes128-sha2_256"
