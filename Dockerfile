# syntax=docker/dockerfile:1
# A static, non-root costexplorer image. Build: docker build -t costexplorer .
# Run:   docker run -p 8080:8080 -v ce-data:/data costexplorer demo --addr 0.0.0.0:8080 --data-dir /data
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/costexplorer ./cmd/costexplorer

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/costexplorer /usr/local/bin/costexplorer
VOLUME ["/data"]
ENV COSTEXPLORER_DATA_DIR=/data COSTEXPLORER_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/costexplorer"]
CMD ["serve"]
