# medic's service image: slim, non-root, with a health check. Build: docker build -t medic .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tools tools
COPY policies policies
COPY agent agent
COPY evals evals
COPY server server
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MPLCONFIGDIR=/tmp/matplotlib
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /var/lib/medic --create-home medic
USER 10001
WORKDIR /var/lib/medic
EXPOSE 8080
HEALTHCHECK --interval=20s --timeout=3s --start-period=60s \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["medic"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
