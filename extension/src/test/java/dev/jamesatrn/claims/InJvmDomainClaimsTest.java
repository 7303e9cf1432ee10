package dev.jamesatrn.claims;

/** The single-node claim store against the contract every claim store passes. */
class InJvmDomainClaimsTest extends DomainClaimStoreContract {
    private final InJvmDomainClaims store = new InJvmDomainClaims();

    @Override
    protected DomainClaimStore store() {
        return store;
    }
}
