/**
 * What anyone needs to check the grid's receipts and ledger without trusting its database: canonical
 * JSON, Ed25519 keys and signatures, the RFC 9162 Merkle tree with its proofs, and the checks of
 * receipts, worker attestations and blocks. No server, no database, no gRPC.
 */
@NullMarked
package net.aitbc.grid.ledger;

import org.jspecify.annotations.NullMarked;
