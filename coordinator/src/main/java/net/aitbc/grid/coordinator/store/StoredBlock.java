package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;

/**
 * A sealed block.
 *
 * @param height its height, from 1
 * @param hash SHA-256 of its canonical header without the signature
 * @param prevHash the previous block's hash (zeros for block 1)
 * @param treeSize leaves in the ledger after it
 * @param root their Merkle root
 * @param count receipts it added
 * @param sealedAt when it was sealed
 * @param keyId the signing coordinator's key id
 * @param header the signed canonical header, verbatim
 */
public record StoredBlock(long height, byte[] hash, byte[] prevHash, long treeSize, byte[] root, int count,
    OffsetDateTime sealedAt, String keyId, String header) {}
