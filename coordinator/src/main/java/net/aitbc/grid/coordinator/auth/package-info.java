/** API keys: how they are made, stored hashed, and checked on every call. */
@NullMarked
package net.aitbc.grid.coordinator.auth;

import org.jspecify.annotations.NullMarked;
