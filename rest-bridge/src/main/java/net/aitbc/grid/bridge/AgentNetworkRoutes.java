package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CreateNetworkResponse;
import net.aitbc.grid.v1.ExecuteNetworkResponse;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.OptimizeNetworkResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc;

/**
 * Agent networks over REST (contract §8, the CLI's {@code agent network} commands), under
 * {@code /api/v1/agents/networks} as the CLI calls them and {@code /v1/agents/networks}. Each is one
 * call to the coordinator's WorkflowService with the caller's key; another client's network answers
 * 404 as an unknown one does.
 */
final class AgentNetworkRoutes {
  private final CoordinatorClient coordinator;

  AgentNetworkRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code POST /networks} with {@code {"name","description","agents":[workflow ids],"coordination_strategy"}}:
   * 201 with the network and its {@code id}. 422 for an unknown workflow (named), a strategy that is
   * not centralized, decentralized or hybrid, or an agent that requires an input its place does not give.
   */
  @Post
  @Path("/api/v1/agents/networks")
  @Path("/v1/agents/networks")
  public HttpResponse create(HttpRequest request) {
    return withBody(request, body -> {
      var create = NetworkRequests.create(body.content());
      return Json.reply(Call.NETWORK, o -> workflows(body.headers()).createNetwork(create, o), HttpStatus.CREATED,
          (CreateNetworkResponse r) -> NetworkJson.network(r.getNetwork()));
    });
  }

  /**
   * {@code POST /networks/{id}/execute} with {@code {"task": <any JSON>, "priority"}}: 202 with the run,
   * whose {@code id} is the run's; its agents' executions follow as the network's strategy says.
   */
  @Post
  @Path("/api/v1/agents/networks/{network_id}/execute")
  @Path("/v1/agents/networks/{network_id}/execute")
  public HttpResponse execute(@Param("network_id") String networkId, HttpRequest request) {
    return withBody(request, body -> {
      var execute = NetworkRequests.execute(networkId, body.content());
      return Json.reply(Call.NETWORK, o -> workflows(body.headers()).executeNetwork(execute, o), HttpStatus.ACCEPTED,
          (ExecuteNetworkResponse r) -> NetworkJson.run(r.getRun()));
    });
  }

  /**
   * {@code GET /networks/{id}/status?metrics=a,b}: the network, each agent's figures (those named:
   * executions, success_rate, latency, cost; all by default), the runs' and the latest runs.
   */
  @Get
  @Path("/api/v1/agents/networks/{network_id}/status")
  @Path("/v1/agents/networks/{network_id}/status")
  public HttpResponse status(@Param("network_id") String networkId, QueryParams query, RequestHeaders headers) {
    GetNetworkStatusRequest get = NetworkRequests.status(networkId, query);
    return Json.reply(Call.NETWORK, o -> workflows(headers).getNetworkStatus(get, o), HttpStatus.OK,
        NetworkJson::status);
  }

  /**
   * {@code POST /networks/{id}/optimize} with {@code {"objective": "speed"|"efficiency"|"cost"|"quality"}}:
   * the recommendations computed from the network's measurements; 422 for another objective.
   */
  @Post
  @Path("/api/v1/agents/networks/{network_id}/optimize")
  @Path("/v1/agents/networks/{network_id}/optimize")
  public HttpResponse optimize(@Param("network_id") String networkId, HttpRequest request) {
    return withBody(request, body -> {
      var optimize = NetworkRequests.optimize(networkId, body.content());
      return Json.reply(Call.NETWORK, o -> workflows(body.headers()).optimizeNetwork(optimize, o), HttpStatus.OK,
          (OptimizeNetworkResponse r) -> NetworkJson.optimize(networkId, r));
    });
  }

  private static HttpResponse withBody(HttpRequest request,
      Function<AggregatedHttpRequest, HttpResponse> answer) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      try {
        return answer.apply(body);
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.NETWORK);
      }
    }));
  }

  private WorkflowServiceGrpc.WorkflowServiceStub workflows(RequestHeaders headers) {
    return coordinator.workflows(ApiKey.of(headers));
  }
}
