//! A WebSocket connection authenticates once, at `connection_init`; the operations sent over it
//! afterwards would keep the grants read then. This extension reads the subject's grants again
//! before each such operation runs (an HTTP request already has them read when it arrives), so
//! a revocation counts from the next operation whichever way it comes.

use super::Services;
use crate::auth::Caller;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};
use std::any::TypeId;
use std::sync::Arc;

/// The extension's factory.
pub struct FreshGrants;

impl ExtensionFactory for FreshGrants {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FreshGrantsExtension)
    }
}

struct FreshGrantsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for FreshGrantsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // The connection's caller (session data), shadowed for this operation by one with the
        // grants as they are now (request data is looked up first).
        let connection_caller = ctx
            .session_data
            .get(&TypeId::of::<Caller>())
            .and_then(|data| data.downcast_ref::<Caller>());
        if !request.data.contains_key(&TypeId::of::<Caller>()) {
            if let (Some(caller), Some(services)) = (connection_caller, ctx.data_opt::<Services>())
            {
                let fresh = crate::grants::with_grants(&services.pool, caller.clone()).await;
                request.data.insert(fresh);
            }
        }
        next.run(ctx, request).await
    }
}
