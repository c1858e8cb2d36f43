# syntax=docker/dockerfile:1
# Build: SDK image restores (cached layer) and publishes Release; run: ASP.NET runtime image, non-root, port 8080.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/WebhookReceiver/WebhookReceiver.csproj src/WebhookReceiver/
RUN dotnet restore src/WebhookReceiver/WebhookReceiver.csproj
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/WebhookReceiver/WebhookReceiver.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=0
EXPOSE 8080
USER $APP_UID
# The app probes itself (the runtime image has no curl or wget).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["dotnet", "WebhookReceiver.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "WebhookReceiver.dll"]
