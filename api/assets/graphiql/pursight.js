// PurSight's GraphiQL set-up. Queries and mutations go to this page's own URL, subscriptions to
// its `/ws` (graphql-transport-ws). The bearer token goes into the Headers pane; GraphiQL sends
// those headers with every HTTP request and as the WebSocket's `connection_init` payload, which
// the server reads the same way.
(function () {
  'use strict';
  var endpoint = window.location.origin + window.location.pathname;
  var subscriptions = endpoint.replace(/^http/, 'ws') + '/ws';
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: subscriptions });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // `?query=…` opens a given query (links in documentation).
      query: params.get('query') || undefined,
      defaultQuery:
        '# Put your token in the Headers pane below (get one with `pursight token`).\n' +
        '{\n  dataSources {\n    id\n    name\n    lifecycleState\n  }\n}\n',
      defaultHeaders: JSON.stringify(
        { Authorization: 'Bearer <paste the output of `pursight token` here>' },
        null,
        2
      ),
      headerEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
