# A correct configuration on a kernel without ESP: east negotiates, the kernel refuses the SA.
